// GraftCore: what every layer shares and nothing more: the seeded generator
// (one reproducible random stream for data order, augmentation, initialisation
// and heads). No Foundation, no C libraries: data and heads depend on it
// without linking oneDNN.
