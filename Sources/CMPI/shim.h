// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are
// macros over casts of global structs, which Swift cannot import: these
// accessors return them as plain values. The linker flags are `pkg-config ompi-c`.
#ifndef GRAFT_CMPI_SHIM_H
#define GRAFT_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm shim_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm shim_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype shim_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype shim_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype shim_int(void) { return MPI_INT; }
static inline MPI_Datatype shim_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype shim_byte(void) { return MPI_BYTE; }
static inline MPI_Op shim_sum(void) { return MPI_SUM; }
static inline MPI_Op shim_max(void) { return MPI_MAX; }
static inline MPI_Op shim_min(void) { return MPI_MIN; }
static inline void *shim_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request shim_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *shim_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *shim_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Errhandler shim_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int shim_success(void) { return MPI_SUCCESS; }
static inline int shim_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int shim_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
