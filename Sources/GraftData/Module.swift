// GraftData: image decoding (JPEG, PNG), PIL-compatible resizing, preprocessing
// into NHWC Float32, datasets (image folders, CSV/JSONL, IDX, built-ins),
// seeded splits and a bounded background loader. Dependency-free of the
// tensor layer: everything here produces plain `[Float]` buffers.
