// Opens weights files with GraftWeights and prints timings (bench/weights/run.sh compares them
// with torch.load and safetensors in the same run).
//   graft-bench-weights REPEATS FILE...
// Per file and mode, prints "row<TAB>graft<TAB>mode<TAB>file<TAB>median ms<TAB>min ms".
//   open: parse and validate; tensors are zero-copy views of the mapped file, ready to use.
//   open+floats: also convert every tensor to a [Float] array (every byte read).
import Foundation
import GraftWeights

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
}

let args = CommandLine.arguments
guard args.count >= 3, let repeats = Int(args[1]) else {
    FileHandle.standardError.write(Data("usage: graft-bench-weights REPEATS FILE...\n".utf8))
    exit(2)
}
var sink = 0.0
for path in args[2...] {
    let url = URL(fileURLWithPath: path)
    let warm = try WeightFile.open(url)   // warms the page cache like the peer's first run
    var open: [Double] = [], floats: [Double] = []
    for _ in 0..<repeats {
        open.append(try milliseconds { sink += Double(try WeightFile.open(url).tensors.count) })
        floats.append(try milliseconds {
            let f = try WeightFile.open(url)
            for t in f.tensors { sink += Double(try t.floats().count) }
        })
    }
    for (mode, times) in [("open", open), ("open+floats", floats)] {
        let s = times.sorted()
        print("row\tgraft\t\(mode)\t\(url.lastPathComponent)\t\(s[s.count / 2])\t\(s[0])\t\(warm.tensors.count)")
    }
}
if sink < 0 { print(sink) }
