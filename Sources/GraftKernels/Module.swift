// GraftKernels: see docs/ARCHITECTURE.md for what this layer owns.
