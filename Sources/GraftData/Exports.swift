// Data APIs take Graft's seeded generator; re-export it so `import GraftData` suffices.
@_exported import struct GraftCore.SeededGenerator
