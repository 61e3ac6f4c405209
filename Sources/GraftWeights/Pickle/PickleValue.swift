/// A value the pickle machine builds. Only data types exist here: a pickle can name a callable
/// only through `PickleGlobal`, which is a closed whitelist, so nothing in a file is executed.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// LONG1/LONG4 wider than 64 bits, little-endian two's complement (the legacy torch magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes(Int)
    case tuple([PickleValue])
    /// Lists, dicts and sets are references, as in Python: a memoized dict filled later is seen filled.
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageRef)
    case tensor(TensorRef)

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(g): return g.qualifiedName
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A mutable container; a pickle can make one contain itself (through the memo), so the machine
/// empties every container it made once the result has been read, breaking such cycles.
protocol PickleContainer: AnyObject {
    func removeAll()
}

/// Owns the containers of the pickles one file runs. Readers create one per file and call
/// `release()` in a `defer` once the results have been read, on success and on error alike.
final class PickleArena {
    var containers: [PickleContainer] = []
    func release() {
        for c in containers { c.removeAll() }
        containers = []
    }
}

final class PickleList: PickleContainer {
    var items: [PickleValue] = []
    init(_ items: [PickleValue] = []) { self.items = items }
    func removeAll() { items = [] }
}

/// An insertion-ordered dict; a key set twice keeps its first position and its last value.
final class PickleDict: PickleContainer {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var index: [Key: Int] = [:]

    /// Hashable keys for the key types state dicts use; anything else never compares equal.
    private enum Key: Hashable { case string(String), int(Int), bool(Bool), none, opaque(Int) }

    func removeAll() {
        keys = []
        values = []
        index = [:]
    }

    func set(_ key: PickleValue, _ value: PickleValue) {
        let k: Key
        switch key {
        case let .string(s): k = .string(s)
        case let .int(i): k = .int(i)
        case let .bool(b): k = .bool(b)
        case .none: k = .none
        default: k = .opaque(keys.count)
        }
        if let i = index[k] {
            values[i] = value
        } else {
            index[k] = keys.count
            keys.append(key)
            values.append(value)
        }
    }
}

/// A storage named by a persistent id: its key in the file, element type and element count.
struct StorageRef {
    let key: String
    let dtype: DType
    let count: Int
}

/// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`: a strided view of a storage.
struct TensorRef {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}
