import type { Issue, IssueSeverity } from '../../fhir/outcome.js';
import { type CheckAnswer, type RemoteTerminology, TerminologyUnavailable } from '../../terminology/remote.js';
import type { RemotePart } from '../../terminology/terminology.js';
import { quote } from '../context.js';

/**
 * Questions for a remote terminology server. The validator is pure and synchronous: where
 * it meets a code it cannot judge with what the server holds (a Coding of SNOMED CT, a code
 * against a value set defined by a SNOMED CT filter, a value set it does not know), it notes
 * a question. Once the walk is done, {@link answerQuestions} asks the terminology server
 * (src/terminology/remote.ts) and turns the answers into issues; without one (or for a code
 * system it is not asked about) each question has the answer the validator gives on its own
 * ({@link unanswered}): nothing, or a warning that the code was not checked.
 *
 * An answer "no" is an error as a local one would be (an unknown code, a wrong display, a code
 * outside a required binding; a warning for an extensible one). A server that cannot be
 * reached, or cannot answer, is a warning that says so: never an error, so never a refused write.
 */

export type Question = CodingQuestion | BindingQuestion;

/** Is the code in its code system, and the display one of its displays? */
export interface CodingQuestion {
  kind: 'coding';
  system: string;
  code: string;
  display?: string;
  /** The Coding's location. */
  at: string;
  /** Raised by a profile asked for rather than claimed (see ValidationParts.asked). */
  asked?: boolean;
}

/** Is any of the codes in the value set? */
export interface BindingQuestion {
  kind: 'binding';
  /** The codes, each with the parts of the value set the remote server may find it in. */
  codes: Array<{ system?: string; code: string; parts: RemotePart[] }>;
  /** The issue when the server says none of them is in the value set. */
  no: { severity: IssueSeverity; at: string; message: string };
  /** What the binding is, for a warning that it could not be checked (`the value set … (required binding of …)`). */
  binding: string;
  /** What the validator says when nobody is asked (the value set is unknown here: a warning). */
  fallback?: Issue;
  asked?: boolean;
}

/** The most questions one validation asks; past them, one warning. */
export const MAX_QUESTIONS = 250;

/** The issues of questions nobody is asked. */
export function unanswered(questions: readonly Question[]): Issue[] {
  return questions.flatMap((q) => (q.kind === 'binding' && q.fallback ? [q.fallback] : []));
}

/**
 * Asks the remote server the questions it can answer (codes of the code systems it is asked
 * about, value sets unknown here), and returns the issues, each with its question (for the
 * caller to tell those of asked profiles).
 */
export async function answerQuestions(questions: readonly Question[], remote: RemoteTerminology, max = MAX_QUESTIONS): Promise<Array<{ question: Question; issue: Issue }>> {
  const out: Array<{ question: Question; issue: Issue }> = [];
  const askable: Question[] = [];
  for (const q of questions) {
    if (isAskable(q, remote)) askable.push(q);
    else if (q.kind === 'binding' && q.fallback) out.push({ question: q, issue: q.fallback });
  }
  const now = askable.slice(0, max);
  const results = await Promise.all(now.map((q) => (q.kind === 'coding' ? answerCoding(q, remote) : answerBinding(q, remote))));
  now.forEach((q, i) => {
    for (const issue of results[i]!) out.push({ question: q, issue });
  });
  if (askable.length > now.length) {
    const first = askable[now.length]!;
    out.push({
      question: first,
      issue: { severity: 'warning', code: 'too-costly', diagnostics: `${askable.length - now.length} more codes were not checked with the terminology server ${remote.url}: it is asked at most ${max} questions for one resource`, expression: [first.kind === 'coding' ? first.at : first.no.at] },
    });
  }
  return out;
}

function isAskable(q: Question, remote: RemoteTerminology): boolean {
  if (q.kind === 'coding') return remote.asks(q.system);
  return q.codes.some((c) => c.parts.some((p) => partAskable(p, remote)));
}

function partAskable(p: RemotePart, remote: RemoteTerminology): boolean {
  return 'valueSet' in p || remote.asks(p.system);
}

const label = (system: string | undefined, code: string) => (system ? `${system}#${quote(code)}` : `'${quote(code)}'`);

function warning(code: Issue['code'], at: string, diagnostics: string): Issue {
  return { severity: 'warning', code, diagnostics: `${at}: ${diagnostics}`, expression: [at] };
}

async function answerCoding(q: CodingQuestion, remote: RemoteTerminology): Promise<Issue[]> {
  const at = `${q.at}.code`;
  const shown = label(q.system, q.code);
  try {
    // The code first, then the display: a "no" to both at once would not say which was wrong.
    const code = await remote.validateCode(q.system, q.code);
    if (!code.answered) return [warning('not-supported', at, `${shown} was not checked: the terminology server ${remote.url} could not check it (${code.message})`)];
    if (!code.result) {
      return [{ severity: 'error', code: 'code-invalid', diagnostics: `${at}: unknown code '${quote(q.code)}' in the code system ${q.system}, says the terminology server ${remote.url}${said(code)}`, expression: [at] }];
    }
    if (q.display === undefined) return [];
    const display = await remote.validateCode(q.system, q.code, q.display);
    const where = `${q.at}.display`;
    if (!display.answered) return [warning('not-supported', where, `the display of ${shown} was not checked: the terminology server ${remote.url} could not check it (${display.message})`)];
    if (display.result) return [];
    const right = display.display ?? code.display;
    return [{ severity: 'error', code: 'invalid', diagnostics: `${where}: wrong display '${quote(q.display)}' for ${shown}${right ? `: the code system's display is '${right}'` : ''} (says the terminology server ${remote.url}${said(display)})`, expression: [where] }];
  } catch (err) {
    if (err instanceof TerminologyUnavailable) return [warning('transient', at, `${shown} was not checked against its code system: ${err.message}`)];
    throw err;
  }
}

async function answerBinding(q: BindingQuestion, remote: RemoteTerminology): Promise<Issue[]> {
  let unavailable: TerminologyUnavailable | undefined;
  let cannot: string | undefined;
  let skipped = false;
  for (const c of q.codes) {
    for (const part of c.parts) {
      if (!partAskable(part, remote)) {
        skipped = true;
        continue;
      }
      let answer: CheckAnswer;
      try {
        answer = await member(remote, part, c.system, c.code);
      } catch (err) {
        if (!(err instanceof TerminologyUnavailable)) throw err;
        unavailable = err;
        continue;
      }
      if (!answer.answered) cannot ??= answer.message;
      else if (answer.result) return [];
    }
  }
  const shown = q.codes.map((c) => label(c.system, c.code)).join(', ');
  if (unavailable) return [warning('transient', q.no.at, `${shown} was not checked against ${q.binding}: ${unavailable.message}`)];
  if (cannot !== undefined) return [warning('not-supported', q.no.at, `${shown} was not checked against ${q.binding}: the terminology server ${remote.url} could not check it (${cannot})`)];
  // A part the server is not asked about might hold the code: as without a terminology server, it is not judged.
  if (skipped) return [];
  return [{ severity: q.no.severity, code: 'code-invalid', diagnostics: `${q.no.at}: ${q.no.message} (says the terminology server ${remote.url})`, expression: [q.no.at] }];
}

/** Whether a code is in one part of a value set: a value set by URL, a whole code system, or one include. */
function member(remote: RemoteTerminology, part: RemotePart, system: string | undefined, code: string): Promise<CheckAnswer> {
  if ('valueSet' in part) return remote.inValueSet(part.valueSet, system, code);
  const include = part.include;
  const whole = Object.keys(include).every((k) => k === 'system' || k === 'version');
  if (whole) return remote.validateCode(part.system, code);
  return remote.inValueSet({ resourceType: 'ValueSet', status: 'active', compose: { include: [include] } }, system, code);
}

function said(a: CheckAnswer): string {
  return a.answered && a.message ? `: ${a.message}` : '';
}
