/// A pickle virtual machine for protocols 2-5 that implements only the opcodes state dicts
/// use. Every opcode consumes at least one byte and creates at most one object, so a pickle
/// runs in time and memory linear in its length; declared string lengths are checked against
/// the bytes left before anything is allocated.
struct PickleMachine {
    /// Resolves a persistent id (the tuple PyTorch writes for each storage).
    typealias PersistentLoad = (_ pid: PickleValue, _ offset: Int) throws -> PickleValue

    private var r: ByteReader
    private let persistentLoad: PersistentLoad
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Records every list and dict made, so the caller can break reference cycles.
    private let arena: PickleArena
    /// Opcodes executed: the budget for walking the result (see `StateDictFlattener`).
    private(set) var operations = 0

    init(_ reader: ByteReader, arena: PickleArena, persistentLoad: @escaping PersistentLoad) {
        r = reader
        self.arena = arena
        self.persistentLoad = persistentLoad
    }

    private func track(_ c: PickleContainer) { arena.containers.append(c) }

    private mutating func newList(_ items: [PickleValue] = []) -> PickleValue {
        let l = PickleList(items)
        track(l)
        return .list(l)
    }

    private mutating func newDict() -> PickleDict {
        let d = PickleDict()
        track(d)
        return d
    }

    /// Where the reader stands (just after STOP once `run` returns).
    var position: Int { r.position }

    private var file: String { r.file }

    private func fail(_ reason: String, at offset: Int) -> WeightsError {
        .malformed(file: file, offset: offset, context: "pickle", reason: reason)
    }

    private mutating func pop(_ at: Int) throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow", at: at) }
        if let m = marks.last, stack.count < m { throw fail("pop below a mark", at: at) }
        return v
    }

    private mutating func top(_ at: Int) throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack underflow", at: at) }
        return v
    }

    /// Pops everything above the last MARK.
    private mutating func popMark(_ at: Int) throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK on the stack", at: at) }
        // A plain loop: `Array(stack[m...]); stack.removeSubrange(m...)` was miscompiled under
        // -Ounchecked (Swift 6.3.1: a double release of a popped dict).
        var items: [PickleValue] = []
        items.reserveCapacity(stack.count - m)
        while stack.count > m { items.append(stack.removeLast()) }
        items.reverse()
        return items
    }

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func text(_ n: Int, _ at: Int) throws -> PickleValue {
        .string(try r.string(try r.take(n, "pickle string"), "pickle string"))
    }

    private mutating func declared(_ n: UInt64, _ what: String) throws -> Int {
        try r.needDeclared(n, "pickle \(what) length")
    }

    private mutating func line(_ at: Int) throws -> String {
        // GLOBAL names are short; a missing newline within 256 bytes is malformed.
        let start = r.position
        while true {
            let b = try r.u8("pickle GLOBAL name")
            if b == 0x0A { break }
            if r.position - start > 256 { throw fail("GLOBAL name longer than 256 bytes", at: at) }
        }
        return try r.string(start..<(r.position - 1), "pickle GLOBAL name")
    }

    private func global(module: String, name: String, at: Int) throws -> PickleValue {
        guard let g = PickleGlobal(module: module, name: name) else {
            throw WeightsError.disallowedGlobal(file: file, offset: at, global: module + "." + name)
        }
        return .global(g)
    }

    /// Runs until STOP and returns the pickled object.
    mutating func run() throws -> PickleValue {
        while true {
            let at = r.position
            let op = try r.u8("pickle opcode")
            operations += 1
            switch op {
            case 0x80: // PROTO
                let v = try r.u8("PROTO")
                guard v >= 2 && v <= 5 else { throw WeightsError.unsupported(file: file, context: "pickle at offset \(at)", feature: "protocol \(v)") }
            case 0x95: // FRAME: framing is only a read-ahead hint
                _ = try declared(try r.u64("FRAME"), "FRAME")
            case 0x2E: // STOP
                let v = try pop(at)
                return v
            case 0x28: marks.append(stack.count) // MARK
            case 0x30: _ = try pop(at) // POP
            case 0x31: _ = try popMark(at) // POP_MARK
            case 0x32: push(try top(at)) // DUP

            case 0x4E: push(.none) // NONE
            case 0x88: push(.bool(true)) // NEWTRUE
            case 0x89: push(.bool(false)) // NEWFALSE
            case 0x4A: push(.int(Int(Int32(bitPattern: try r.u32("BININT"))))) // BININT
            case 0x4B: push(.int(Int(try r.u8("BININT1")))) // BININT1
            case 0x4D: push(.int(Int(try r.u16("BININT2")))) // BININT2
            case 0x8A: try long(Int(try r.u8("LONG1")), at) // LONG1
            case 0x8B: // LONG4
                let n = Int32(bitPattern: try r.u32("LONG4"))
                guard n >= 0 else { throw fail("negative LONG4 length", at: at) }
                try long(try declared(UInt64(n), "LONG4"), at)
            case 0x47: // BINFLOAT: big-endian double
                push(.float(Double(bitPattern: UInt64(bigEndian: UInt64(littleEndian: try r.u64("BINFLOAT"))))))

            case 0x58: push(try text(try declared(UInt64(try r.u32("BINUNICODE")), "BINUNICODE"), at)) // BINUNICODE
            case 0x8C: push(try text(Int(try r.u8("SHORT_BINUNICODE")), at)) // SHORT_BINUNICODE
            case 0x8D: push(try text(try declared(try r.u64("BINUNICODE8"), "BINUNICODE8"), at)) // BINUNICODE8
            case 0x54: // BINSTRING (Python 2 str)
                let n = Int32(bitPattern: try r.u32("BINSTRING"))
                guard n >= 0 else { throw fail("negative BINSTRING length", at: at) }
                push(try text(Int(n), at))
            case 0x55: push(try text(Int(try r.u8("SHORT_BINSTRING")), at)) // SHORT_BINSTRING
            case 0x42: push(.bytes(try r.take(try declared(UInt64(try r.u32("BINBYTES")), "BINBYTES"), "BINBYTES").count)) // BINBYTES
            case 0x43: push(.bytes(try r.take(Int(try r.u8("SHORT_BINBYTES")), "SHORT_BINBYTES").count)) // SHORT_BINBYTES
            case 0x8E, 0x96: push(.bytes(try r.take(try declared(try r.u64("BINBYTES8"), "BINBYTES8"), "BINBYTES8").count)) // BINBYTES8, BYTEARRAY8

            case 0x29: push(.tuple([])) // EMPTY_TUPLE
            case 0x74: push(.tuple(try popMark(at))) // TUPLE
            case 0x85: let a = try pop(at); push(.tuple([a])) // TUPLE1
            case 0x86: let b = try pop(at), a = try pop(at); push(.tuple([a, b])) // TUPLE2
            case 0x87: let c = try pop(at), b = try pop(at), a = try pop(at); push(.tuple([a, b, c])) // TUPLE3
            case 0x5D: push(newList()) // EMPTY_LIST
            case 0x6C: push(newList(try popMark(at))) // LIST
            case 0x7D: push(.dict(newDict())) // EMPTY_DICT
            case 0x64: // DICT
                let items = try popMark(at)
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: at) }
                let d = newDict()
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                push(.dict(d))
            case 0x8F: push(newList()) // EMPTY_SET: read as a list
            case 0x91: push(newList(try popMark(at))) // FROZENSET
            case 0x61: // APPEND
                let v = try pop(at)
                guard case let .list(l) = try top(at) else { throw fail("APPEND to a \(try top(at).kind)", at: at) }
                l.items.append(v)
            case 0x65, 0x90: // APPENDS, ADDITEMS
                let items = try popMark(at)
                guard case let .list(l) = try top(at) else { throw fail("APPENDS to a \(try top(at).kind)", at: at) }
                l.items.append(contentsOf: items)
            case 0x73: // SETITEM
                let v = try pop(at), k = try pop(at)
                guard case let .dict(d) = try top(at) else { throw fail("SETITEM on a \(try top(at).kind)", at: at) }
                d.set(k, v)
            case 0x75: // SETITEMS
                let items = try popMark(at)
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: at) }
                guard case let .dict(d) = try top(at) else { throw fail("SETITEMS on a \(try top(at).kind)", at: at) }
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }

            case 0x71: memo[Int(try r.u8("BINPUT"))] = try top(at) // BINPUT
            case 0x72: memo[Int(try r.u32("LONG_BINPUT"))] = try top(at) // LONG_BINPUT
            case 0x94: memo[memo.count] = try top(at) // MEMOIZE
            case 0x68: push(try memoGet(Int(try r.u8("BINGET")), at)) // BINGET
            case 0x6A: push(try memoGet(Int(try r.u32("LONG_BINGET")), at)) // LONG_BINGET

            case 0x63: // GLOBAL
                let module = try line(at), name = try line(at)
                push(try global(module: module, name: name, at: at))
            case 0x93: // STACK_GLOBAL
                let n = try pop(at), m = try pop(at)
                guard case let .string(module) = m, case let .string(name) = n else { throw fail("STACK_GLOBAL needs two strings", at: at) }
                push(try global(module: module, name: name, at: at))
            case 0x52: // REDUCE
                let args = try pop(at), callable = try pop(at)
                push(try reduce(callable, args, at))
            case 0x81: // NEWOBJ
                let args = try pop(at), cls = try pop(at)
                push(try reduce(cls, args, at))
            case 0x92: // NEWOBJ_EX
                _ = try pop(at)
                let args = try pop(at), cls = try pop(at)
                push(try reduce(cls, args, at))
            case 0x62: // BUILD: state for an OrderedDict (`_metadata`) or a Parameter is dropped
                _ = try pop(at)
                switch try top(at) {
                case .dict, .tensor: break
                default: throw fail("BUILD on a \(try top(at).kind)", at: at)
                }
            case 0x51: // BINPERSID
                let pid = try pop(at)
                push(try persistentLoad(pid, at))
            default:
                throw WeightsError.unsupportedOpcode(file: file, offset: at, opcode: op)
            }
        }
    }

    private func memoGet(_ i: Int, _ at: Int) throws -> PickleValue {
        guard let v = memo[i] else { throw fail("memo key \(i) was never stored", at: at) }
        return v
    }

    private mutating func long(_ n: Int, _ at: Int) throws {
        let range = try r.take(n, "LONG")
        let bytes = r.bytes(range)
        if n > 8 {
            push(.bigInt(Array(bytes)))
            return
        }
        var v: UInt64 = 0
        for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        if n > 0 && n < 8 && bytes[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) } // sign-extend
        push(.int(Int(Int64(bitPattern: v))))
    }

    // MARK: the whitelisted callables

    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue, _ at: Int) throws -> PickleValue {
        guard case let .global(g) = callable else { throw fail("REDUCE on a \(callable.kind), not a global", at: at) }
        guard case let .tuple(a) = args else { throw fail("\(g.qualifiedName) arguments are a \(args.kind), not a tuple", at: at) }
        switch g {
        case .orderedDict:
            let d = newDict()
            // Python 2 pickled OrderedDict as (cls, ([[k, v], ...],)); Python 3 as (cls, ()) plus SETITEMS.
            if let first = a.first {
                guard a.count == 1, case let .list(pairs) = first else { throw fail("OrderedDict with unexpected arguments", at: at) }
                for p in pairs.items {
                    switch p {
                    case let .tuple(kv) where kv.count == 2: d.set(kv[0], kv[1])
                    case let .list(kv) where kv.items.count == 2: d.set(kv.items[0], kv.items[1])
                    default: throw fail("OrderedDict item is not a pair", at: at)
                    }
                }
            }
            return .dict(d)
        case .rebuildTensor, .rebuildTensorV2:
            // (storage, storage_offset, size, stride, [requires_grad, backward_hooks, [metadata]])
            guard a.count >= 4, case let .storage(s) = a[0], case let .int(offset) = a[1],
                  let shape = ints(a[2]), let strides = ints(a[3]) else {
                throw fail("\(g.qualifiedName) arguments are not (storage, offset, size, stride, ...)", at: at)
            }
            return .tensor(TensorRef(storage: s, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = a.first, case .tensor = data else { throw fail("\(g.qualifiedName) without a tensor", at: at) }
            return data
        case .storageType:
            throw fail("\(g.qualifiedName) called directly", at: at)
        }
    }

    private func ints(_ v: PickleValue) -> [Int]? {
        guard case let .tuple(items) = v else { return nil }
        var out: [Int] = []
        for i in items {
            guard case let .int(x) = i else { return nil }
            out.append(x)
        }
        return out
    }
}
