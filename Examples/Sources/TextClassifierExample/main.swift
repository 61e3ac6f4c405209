// Fits logistic regression on MiniLM sentence embeddings of a few labelled
// reviews, then classifies new sentences and finds the closest training review.
import Graft

let reviews = [
    "A moving, beautifully acted film.", "Sharp, funny and surprisingly tender.", "One of the best films of the year.",
    "A joy from start to finish.", "Clever writing and a terrific cast.", "Warm, wise and wonderfully made.",
    "A dull, lifeless mess.", "Overlong and painfully predictable.", "The plot makes no sense at all.",
    "Two hours I will never get back.", "Flat characters and clumsy dialogue.", "A tedious, forgettable sequel.",
]
let labels = Array(repeating: "fresh", count: 6) + Array(repeating: "rotten", count: 6)

let job = TextClassifier.train(data: .texts(reviews, labels: labels),
                               parameters: Parameters(strategy: .featureExtraction(head: .logisticRegression), validation: .none))
let classifier = try await job.result
for sentence in ["An absolute delight.", "Boring and far too long."] {
    let best = try classifier.predict(text: sentence, top: 2)
    print(sentence, "->", best.map { "\($0.label) \(Int(($0.probability * 100).rounded()))%" }.joined(separator: ", "))
}

let embedder = try Embedder()
let hit = try embedder.search("a wonderful movie", in: reviews, top: 1)[0]
print("closest review to 'a wonderful movie':", reviews[hit.index], "(cosine \(hit.score))")
