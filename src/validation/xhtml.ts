/**
 * A light check of narrative XHTML (the `xhtml` type of `Narrative.div`).
 * https://hl7.org/fhir/STU3/narrative.html#xhtml and https://hl7.org/fhir/STU3/json.html
 *
 * STU3 requires the narrative to be a single `<div>` in the XHTML namespace, and
 * forbids head, body, scripts, forms, base/link, frames, iframes, objects and
 * event attributes (`onclick=` ...). This is not a full XHTML parse: it checks the
 * root element, the namespace, forbidden elements and event attributes. Every
 * regex here runs in linear time, whatever the input.
 */

const XMLNS = /\sxmlns\s*=\s*(?:"http:\/\/www\.w3\.org\/1999\/xhtml"|'http:\/\/www\.w3\.org\/1999\/xhtml')/;
const FORBIDDEN_ELEMENT = /<(script|form|head|body|base|link|frame|frameset|iframe|object|embed|applet)(?=[\s/>])/i;
/** An `on...=` attribute inside a start tag (the tag's text cannot hold `<` or `>`). */
const EVENT_ATTRIBUTE = /<[a-z][^<>]*?\s(on[a-z]+)\s*=/i;

/** Returns what is wrong with the narrative XHTML, or undefined when it passes. */
export function checkXhtml(xhtml: string): string | undefined {
  let start = 0;
  let end = xhtml.length;
  while (start < end && isSpace(xhtml.charCodeAt(start))) start++;
  while (end > start && isSpace(xhtml.charCodeAt(end - 1))) end--;
  if (!xhtml.startsWith('<div', start) || !endsTagName(xhtml.charCodeAt(start + 4))) {
    return 'must be a single <div> element (it does not start with <div)';
  }
  if (!xhtml.endsWith('</div>', end)) return 'must be a single <div> element (it does not end with </div>)';
  const openEnd = xhtml.indexOf('>', start);
  if (!XMLNS.test(xhtml.slice(start, openEnd))) {
    return 'root <div> must carry xmlns="http://www.w3.org/1999/xhtml"';
  }
  const forbidden = FORBIDDEN_ELEMENT.exec(xhtml);
  if (forbidden) return `must not contain a <${forbidden[1]!.toLowerCase()}> element`;
  const event = EVENT_ATTRIBUTE.exec(xhtml);
  if (event) return `must not carry event attributes (found ${event[1]!.toLowerCase()})`;
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** After `<div`: whitespace, `>` or `/` (so `<divx` is not a div). */
function endsTagName(c: number): boolean {
  return isSpace(c) || c === 62 || c === 47;
}
