// Heads take Graft's seeded generator; re-export it so `import GraftHeads` suffices.
@_exported import struct GraftCore.SeededGenerator
