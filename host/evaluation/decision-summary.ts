// Image-level figures of the lesion-present decision (models/lesion-decision.ts)
// and what the operator then sees: on a frame decided "no lesion" the outline is
// not drawn, so the shown mask is empty; on a lesion image that costs its Dice.
import { wilson, type LesionDecisionRule } from '../../models/lesion-decision.js';
import { mean } from '../../models/datasets/metrics.js';

export interface DecisionResult {
  cls: string;
  /** presence score (top-k mean probability) */
  score: number;
  /** the decision said lesion */
  lesion: boolean;
  /** Dice / IoU of the mask the operator sees (empty when the decision said no lesion) */
  shownDice: number;
  shownIou: number;
}

export interface DecisionSummary {
  rule: LesionDecisionRule;
  /** lesion images called "lesion" */
  sensitivity: { value: number; detected: number; n: number; ci95: [number, number] };
  /** normal images called "no lesion": nothing shown to the operator */
  specificity: { value: number; clean: number; n: number; ci95: [number, number] };
  /** lesion Dice / IoU of the shown masks (0 on a missed lesion) */
  shownLesion: { dice: number; iou: number };
  /** area under the ROC curve of the presence score, lesion vs normal images */
  auc: number;
}

export function summarizeDecisions(rule: LesionDecisionRule, rs: DecisionResult[]): DecisionSummary {
  const lesion = rs.filter((r) => r.cls !== 'normal');
  const normal = rs.filter((r) => r.cls === 'normal');
  const detected = lesion.filter((r) => r.lesion).length;
  const clean = normal.filter((r) => !r.lesion).length;
  return {
    rule,
    sensitivity: { value: lesion.length ? detected / lesion.length : NaN, detected, n: lesion.length, ci95: wilson(detected, lesion.length) },
    specificity: { value: normal.length ? clean / normal.length : NaN, clean, n: normal.length, ci95: wilson(clean, normal.length) },
    shownLesion: { dice: mean(lesion.map((r) => r.shownDice)), iou: mean(lesion.map((r) => r.shownIou)) },
    auc: auc(lesion.map((r) => r.score), normal.map((r) => r.score)),
  };
}

/** P(score of a lesion image > score of a normal image), ties half. */
export function auc(pos: number[], neg: number[]): number {
  if (!pos.length || !neg.length) return NaN;
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}
