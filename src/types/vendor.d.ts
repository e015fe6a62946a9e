/** Types for the packages that ship none, as far as Strata uses them. */

declare module "vader-sentiment" {
  export interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    /** The normalized sum of the text's valences, -1 (most negative) to 1. */
    compound: number;
  }
  /** The package is CommonJS: its exports arrive as the default import. */
  const vader: { SentimentIntensityAnalyzer: { polarity_scores(text: string): PolarityScores } };
  export default vader;
}

declare module "stopword" {
  /** English stop words, lower case. */
  export const eng: string[];
  export function removeStopwords(words: string[], stopwords?: string[]): string[];
}
