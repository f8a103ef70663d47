import type { Session } from './session.js';
import { isRecord } from './values.js';

/**
 * A QuestionnaireResponse against its Questionnaire, when the caller can supply it:
 * every required question (without enableWhen conditions, which are not evaluated)
 * has an answer, and required groups are present. Answers to questions nest below
 * `answer.item`, items of groups below `item`.
 * https://hl7.org/fhir/STU3/questionnaireresponse.html#link
 */

type Item = Record<string, unknown>;

export function checkQuestionnaireResponse(s: Session, qr: Record<string, unknown>, location: string, resolve: ((reference: string) => Record<string, unknown> | undefined) | undefined): void {
  if (!resolve || !isRecord(qr.questionnaire) || typeof qr.questionnaire.reference !== 'string') return;
  const q = resolve(qr.questionnaire.reference);
  if (!q || q.resourceType !== 'Questionnaire') return;
  if (qr.status !== 'completed' && qr.status !== 'amended') return; // only a completed response must answer everything
  checkItems(s, items(q.item), items(qr.item), location);
}

function checkItems(s: Session, questions: Item[], answers: Item[], location: string): void {
  for (const question of questions) {
    const linkId = question.linkId;
    if (typeof linkId !== 'string') continue;
    const found = answers.filter((a) => a.linkId === linkId);
    const conditional = Array.isArray(question.enableWhen) && question.enableWhen.length > 0;
    const isGroup = question.type === 'group';
    if (question.type === 'display') continue;
    if (question.required === true && !conditional) {
      const answered = isGroup ? found.length > 0 : found.some((a) => items(a.answer).length > 0);
      if (!answered) {
        const what = isGroup ? `the required group '${linkId}' is missing` : `no answer is given for the required item '${linkId}'`;
        s.report('error', 'required', location, `${what} (Questionnaire item ${linkId}${typeof question.text === 'string' ? `: ${question.text}` : ''})`);
      }
    }
    const children = items(question.item);
    if (!children.length) continue;
    found.forEach((a) => {
      const at = `${location}.item[${answers.indexOf(a)}]`;
      if (isGroup) checkItems(s, children, items(a.item), at);
      else items(a.answer).forEach((ans, i) => checkItems(s, children, items(ans.item), `${at}.answer[${i}]`));
    });
  }
}

function items(v: unknown): Item[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}
