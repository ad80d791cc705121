// The package ships no types: the part of its API tagstream uses (docs/predictions.md, "Models").
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix'

  interface TwoClassModel {
    /** 1 × columns: the weights of the class-versus-the-rest regression. */
    weights: Matrix
    testScores(features: Matrix): number[]
  }

  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number })
    /** One-versus-all over the classes 0…k−1 of `target` (a column vector). */
    train(features: Matrix, target: Matrix): void
    classifiers: TwoClassModel[]
    numberClasses: number
  }
}
