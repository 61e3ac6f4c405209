import GraftKernels
print("graft-bench-kernels: oneDNN \(Runtime.oneDNNVersion)")
