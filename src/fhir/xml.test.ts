import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from './definitions/cache.js';
import { hasExact } from './decimal.js';
import { parseJson, stringifyJson } from './json.js';
import { FhirError } from './outcome.js';
import { parseXml, serializeXml } from './xml.js';

const EXAMPLES = path.resolve(projectRoot(), '../shared/fhir-stu3-examples');
const XSD_DIR = path.join(EXAMPLES, 'xsd');
const CONFORMANCE = path.join(projectRoot(), 'docs', 'conformance.md');
const CI = process.env.CI === 'true';
const examplesPresent = existsSync(path.join(EXAMPLES, 'json')) && existsSync(path.join(EXAMPLES, 'xml'));
const xmllintPresent = spawnSync('xmllint', ['--version']).status === 0;

type Json = Record<string, unknown>;
const FHIR = 'xmlns="http://hl7.org/fhir"';
const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';
const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

/** parseXml's FhirError, or a failure when it does not throw one. */
function rejection(text: string): FhirError {
  try {
    parseXml(text);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    return err as FhirError;
  }
  throw new Error('parseXml accepted the input');
}

const patient = (body: string) => `<Patient ${FHIR}>${body}</Patient>`;

// ---------------------------------------------------------------------------
// The official examples
// ---------------------------------------------------------------------------

type Check = 'json-roundtrip' | 'xml-roundtrip' | 'xml-vs-json' | 'xsd';
const CHECKS: Check[] = ['json-roundtrip', 'xml-roundtrip', 'xml-vs-json', 'xsd'];

/** The "XML round trip: known exceptions" table of docs/conformance.md: check -> example -> reason. */
function knownExceptions(): Map<Check, Map<string, string>> {
  const text = readFileSync(CONFORMANCE, 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('XML round trip: known exceptions'));
  if (!section) throw new Error(`${CONFORMANCE} has no section "XML round trip: known exceptions"`);
  const out = new Map<Check, Map<string, string>>(CHECKS.map((c) => [c, new Map()]));
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const checks = m[2]!.split(',').map((s) => s.trim());
    if (checks.some((c) => !CHECKS.includes(c as Check))) continue; // the table of check names
    for (const c of checks) out.get(c as Check)!.set(m[1]!, m[3]!.trim());
  }
  return out;
}

const divParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
});

const escapeXml = (s: string, attr: boolean) =>
  s.replace(attr ? /[&<>"]/g : /[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function canonicalMarkup(nodes: Json[]): string {
  let out = '';
  for (const node of nodes) {
    if ('#text' in node) {
      out += escapeXml(String(node['#text']), false);
      continue;
    }
    const tag = Object.keys(node).find((k) => k !== ':@')!;
    const attrs = (node[':@'] ?? {}) as Record<string, string>;
    out += `<${tag}` + Object.keys(attrs).sort().map((k) => ` ${k}="${escapeXml(String(attrs[k]), true)}"`).join('');
    const inner = canonicalMarkup(node[tag] as Json[]);
    out += inner === '' ? '/>' : `>${inner}</${tag}>`;
  }
  return out;
}

/** Re-serialises every narrative div in place in one canonical XHTML spelling (see docs/conformance.md). */
function canonicaliseDivs(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Json;
  for (const key of Object.keys(obj)) {
    if (key === 'div' && typeof obj[key] === 'string') obj[key] = canonicalMarkup(divParser.parse(obj[key] as string) as Json[]);
    else canonicaliseDivs(obj[key]);
  }
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/** The first place two JSON texts differ, for failure messages. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `differs at ${i}: ${JSON.stringify(a.slice(Math.max(0, i - 40), i + 60))} vs ${JSON.stringify(b.slice(Math.max(0, i - 40), i + 60))}`;
}

if (!examplesPresent && !CI) console.warn(`xml.test.ts: the official STU3 examples are not at ${EXAMPLES}; their checks are skipped (in CI they fail).`);

describe.skipIf(!examplesPresent && !CI)(
  examplesPresent ? `the official STU3 examples (${EXAMPLES})` : `the official STU3 examples: SKIPPED, not found at ${EXAMPLES}`,
  () => {
    const failures = new Map<Check, Map<string, string>>(CHECKS.map((c) => [c, new Map()]));
    const produced: Array<{ file: string; example: string }> = [];
    let names: string[] = [];
    let outDir = '';

    beforeAll(() => {
      if (!examplesPresent) return;
      outDir = mkdtempSync(path.join(tmpdir(), 'ccri-xml-'));
      names = readdirSync(path.join(EXAMPLES, 'json'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
        .sort();
      for (const name of names) {
        const jsonText = readFileSync(path.join(EXAMPLES, 'json', `${name}.json`), 'utf8');
        const xmlText = readFileSync(path.join(EXAMPLES, 'xml', `${name}.xml`), 'utf8');
        const fail = (check: Check, why: string) => failures.get(check)!.set(name, why);

        try {
          const json = parseJson(jsonText) as Json;
          const xml = serializeXml(json);
          const file = path.join(outDir, `${name}.from-json.xml`);
          writeFileSync(file, xml);
          produced.push({ file, example: name });
          const expected = stringifyJson(json);
          const actual = stringifyJson(parseXml(xml));
          if (actual !== expected) fail('json-roundtrip', firstDifference(actual, expected));
        } catch (err) {
          fail('json-roundtrip', reason(err));
        }

        try {
          const first = parseXml(xmlText);
          const xml = serializeXml(first, true);
          const file = path.join(outDir, `${name}.from-xml.xml`);
          writeFileSync(file, xml);
          produced.push({ file, example: name });
          const expected = stringifyJson(first);
          const actual = stringifyJson(parseXml(xml));
          if (actual !== expected) fail('xml-roundtrip', firstDifference(actual, expected));
        } catch (err) {
          fail('xml-roundtrip', reason(err));
        }

        try {
          const fromXml = parseXml(xmlText);
          const fromJson = parseJson(jsonText);
          canonicaliseDivs(fromXml);
          canonicaliseDivs(fromJson);
          const actual = stringifyJson(fromXml);
          const expected = stringifyJson(fromJson);
          if (actual !== expected) fail('xml-vs-json', firstDifference(actual, expected));
        } catch (err) {
          fail('xml-vs-json', reason(err));
        }
      }
    });

    afterAll(() => {
      if (outDir) rmSync(outDir, { recursive: true, force: true });
    });

    /** Fails on an unlisted failure and on a listed example that passes. */
    function expectOnlyKnown(check: Check): void {
      const known = knownExceptions().get(check)!;
      const failed = failures.get(check)!;
      const unexpected = [...failed].filter(([n]) => !known.has(n)).map(([n, why]) => `${n}: ${why}`);
      const nowPassing = [...known.keys()].filter((n) => !failed.has(n)).map((n) => `${n} is listed in docs/conformance.md but passes`);
      expect({ unexpected, nowPassing }).toEqual({ unexpected: [], nowPassing: [] });
    }

    it('finds the 528 example pairs', () => {
      expect(examplesPresent, `the examples are not at ${EXAMPLES}`).toBe(true);
      expect(names.length).toBe(528);
      for (const n of names) expect(existsSync(path.join(EXAMPLES, 'xml', `${n}.xml`)), `${n}.xml`).toBe(true);
    });

    it('JSON -> XML -> JSON gives back every JSON example (decimals as written)', () => expectOnlyKnown('json-roundtrip'));

    it('XML -> XML -> JSON gives back what the first parse gave', () => expectOnlyKnown('xml-roundtrip'));

    it('parsing each XML example gives what parsing its JSON pair gives', () => expectOnlyKnown('xml-vs-json'));

    it.skipIf(!xmllintPresent && !CI)(
      xmllintPresent ? 'every XML produced validates against fhir-single.xsd' : 'every XML produced validates against fhir-single.xsd: SKIPPED, xmllint not installed',
      () => {
        expect(xmllintPresent, 'xmllint (Debian package libxml2-utils) is needed').toBe(true);
        expect(produced.length).toBeGreaterThan(1000);
        const run = spawnSync('xmllint', ['--noout', '--schema', path.join(XSD_DIR, 'fhir-single.xsd'), ...produced.map((p) => p.file)], {
          cwd: XSD_DIR,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        const output = `${run.stdout}${run.stderr}`;
        const validated = new Set<string>();
        for (const line of output.split('\n')) {
          const ok = / validates$/.exec(line);
          if (ok) validated.add(line.slice(0, -' validates'.length));
        }
        for (const { file, example } of produced) {
          if (validated.has(file)) continue;
          const errors = output.split('\n').filter((l) => l.startsWith(`${file}:`)).slice(0, 3).join(' | ');
          failures.get('xsd')!.set(example, `${path.basename(file)}: ${errors || 'fails to validate'}`);
        }
        expect(validated.size + failures.get('xsd')!.size).toBeGreaterThan(0);
        expectOnlyKnown('xsd');
      },
    );
  },
);

// ---------------------------------------------------------------------------
// Hostile and malformed input
// ---------------------------------------------------------------------------

describe('parseXml refuses hostile and malformed input with a 400', () => {
  it('refuses a DOCTYPE with an internal entity, expanding nothing', () => {
    const err = rejection(`<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY x "EXPANDED">]>${patient('<id value="&x;"/>')}`);
    expect(err.status).toBe(400);
    expect(err.issues[0]!.code).toBe('structure');
    expect(err.message).toMatch(/DOCTYPE/);
    expect(err.message).not.toMatch(/EXPANDED/);
  });

  it('refuses an external entity without reading it', () => {
    const err = rejection(`<!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]>${patient('<id value="&x;"/>')}`);
    expect(err.status).toBe(400);
    expect(err.message).not.toMatch(/root:/);
  });

  it('refuses "billion laughs" at once', () => {
    const lol = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const started = performance.now();
    const err = rejection(`<?xml version="1.0"?><!DOCTYPE lolz [${lol.join('')}]>${patient('<id value="&lol9;"/>')}`);
    expect(err.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('decodes nothing but the predefined entities and character references', () => {
    expect(rejection(patient('<id value="&x;"/>')).message).toMatch(/&x;.*not defined/);
    expect(rejection(patient(`<text><status value="generated"/><div ${XHTML}>a&nbsp;b</div></text>`)).issues[0]!.expression).toEqual(['Patient.text.div']);
    expect(rejection(patient('<id value="a&#1;"/>')).status).toBe(400);
    expect(rejection(patient('<id value="a & b"/>')).status).toBe(400);
    expect(rejection(patient(`<text><status value="generated"/><div ${XHTML}>a\u0002</div></text>`)).status).toBe(400);
  });

  it('refuses malformed XML with the parser message', () => {
    for (const text of [patient('<id value="a">'), `<Patient ${FHIR}></Patientx>`, '', 'not xml', `${patient('')}${patient('')}`]) {
      const err = rejection(text);
      expect(err.status).toBe(400);
    }
    expect(rejection(patient('<id value="a">')).message).toMatch(/not well-formed XML: Expected closing tag 'id'/);
  });

  it('refuses unknown elements and attributes, naming their path', () => {
    const err = rejection(patient('<foo value="1"/>'));
    expect(err.message).toMatch(/Unknown element 'foo'/);
    expect(err.issues[0]!.expression).toEqual(['Patient.foo']);
    expect(rejection(patient('<name><given value="a"/><foo value="1"/></name>')).issues[0]!.expression).toEqual(['Patient.name[0].foo']);
    expect(rejection(patient('<gender value="male" bar="1"/>')).issues[0]!.expression).toEqual(['Patient.gender.bar']);
    expect(rejection(`<Patient ${FHIR} id="x"/>`).issues[0]!.expression).toEqual(['Patient.id']);
  });

  it('refuses a root or child outside the FHIR namespace, and a root that is not a resource', () => {
    expect(rejection('<Patient xmlns="http://example.org/other"><id value="a"/></Patient>').message).toMatch(/not in the FHIR namespace/);
    expect(rejection('<Patient><id value="a"/></Patient>').message).toMatch(/not in the FHIR namespace/);
    expect(rejection(patient('<gender xmlns="urn:x" value="male"/>')).issues[0]!.expression).toEqual(['Patient.gender']);
    expect(rejection(patient(`<text><status value="generated"/><div><p>no xhtml namespace</p></div></text>`)).issues[0]!.expression).toEqual(['Patient.text.div']);
    expect(rejection(`<HumanName ${FHIR}/>`).message).toMatch(/not a FHIR resource type/);
  });

  it('refuses a primitive with neither value nor extension, and values of the wrong form', () => {
    expect(rejection(patient('<gender/>')).issues[0]!.expression).toEqual(['Patient.gender']);
    expect(rejection(patient('<gender value=""/>')).status).toBe(400);
    expect(rejection(patient('<active value="yes"/>')).message).toMatch(/not a valid boolean/);
    expect(rejection(patient('<multipleBirthInteger value="two"/>')).message).toMatch(/not a valid integer/);
  });

  it('refuses repeats of single elements, two choices, and text where elements belong', () => {
    expect(rejection(patient('<gender value="male"/><gender value="female"/>')).message).toMatch(/only appear once/);
    expect(rejection(patient('<deceasedBoolean value="true"/><deceasedDateTime value="2000"/>')).message).toMatch(/deceased\[x\]/);
    expect(rejection(patient('hello')).message).toMatch(/Unexpected text/);
    expect(rejection(patient('<contained><Patient/><Patient/></contained>')).status).toBe(400);
  });

  it('refuses nesting deeper than 100 levels', () => {
    const deep = (n: number) => patient(`${'<extension url="u">'.repeat(n)}<valueString value="x"/>${'</extension>'.repeat(n)}`);
    expect(() => parseXml(deep(90))).not.toThrow();
    expect(rejection(deep(150)).message).toMatch(/nested more than 100/);
    expect(rejection(patient(`${'<extension url="u">'.repeat(100_000)}${'</extension>'.repeat(100_000)}`)).status).toBe(400);
  });

  it('refuses names that would pollute prototypes', () => {
    expect(rejection(patient('<__proto__ value="1"/>')).status).toBe(400);
    expect(rejection(patient('<id value="&constructor;"/>')).status).toBe(400);
    expect(rejection(`<f:Patient xmlns:f="http://hl7.org/fhir"><toString:id xmlns:x="y" value="a"/></f:Patient>`).status).toBe(400);
    expect(({} as Json).value).toBeUndefined();
  });

  it('ignores comments and processing instructions', () => {
    const text = `<?xml version="1.0"?><?xml-stylesheet href="a.xsl"?><!-- before -->${patient('<!-- c --><id value="a"/><?pi x?><active value="true"/>')}<!-- after -->`;
    expect(parseXml(text)).toEqual({ resourceType: 'Patient', id: 'a', active: true });
  });
});

// ---------------------------------------------------------------------------
// The mapping, piece by piece
// ---------------------------------------------------------------------------

describe('XML <-> JSON mapping', () => {
  const roundTrip = (resource: Json) => {
    const xml = serializeXml(resource);
    const back = parseXml(xml);
    expect(stringifyJson(back)).toBe(stringifyJson(resource));
    expect(stringifyJson(parseXml(serializeXml(resource, true)))).toBe(stringifyJson(resource));
    return xml;
  };

  it('writes the declaration, the FHIR namespace and definition order', () => {
    const xml = serializeXml({ resourceType: 'Patient', gender: 'male', id: 'p1', active: true });
    expect(xml).toBe(`${DECL}<Patient ${FHIR}><id value="p1"/><active value="true"/><gender value="male"/></Patient>`);
    expect(serializeXml({ resourceType: 'Patient', id: 'p1' }, true)).toBe(`${DECL}\n<Patient ${FHIR}>\n  <id value="p1"/>\n</Patient>\n`);
  });

  it('reads a prefixed FHIR namespace and ignores foreign attributes', () => {
    const text = '<f:Patient xmlns:f="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x"><f:id value="a"/></f:Patient>';
    expect(parseXml(text)).toEqual({ resourceType: 'Patient', id: 'a' });
  });

  it('puts a single primitive\'s id and extensions in its _x sibling', () => {
    const xml = patient(
      '<birthDate id="bd" value="1974-12-25"><extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime"><valueDateTime value="1974-12-25T14:35:45-05:00"/></extension></birthDate>' +
        '<deceasedBoolean><extension url="http://example.org/no-value"><valueCode value="unknown"/></extension></deceasedBoolean>',
    );
    const expected = {
      resourceType: 'Patient',
      birthDate: '1974-12-25',
      _birthDate: { id: 'bd', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T14:35:45-05:00' }] },
      _deceasedBoolean: { extension: [{ url: 'http://example.org/no-value', valueCode: 'unknown' }] },
    };
    const parsed = parseXml(xml);
    expect(parsed).toEqual(expected);
    expect(Object.keys(parsed)).toEqual(['resourceType', 'birthDate', '_birthDate', '_deceasedBoolean']);
    expect(serializeXml(parsed)).toBe(DECL + xml);
  });

  it('writes repeating primitives as parallel arrays with nulls', () => {
    const ext = (v: string) => `<extension url="http://example.org/x"><valueString value="${v}"/></extension>`;
    const xml = patient(`<name><given value="a"/><given>${ext('only-ext')}</given><given id="g3" value="c"/><given value="d"/></name>`);
    const parsed = parseXml(xml);
    expect(parsed).toEqual({
      resourceType: 'Patient',
      name: [
        {
          given: ['a', null, 'c', 'd'],
          _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'only-ext' }] }, { id: 'g3' }, null],
        },
      ],
    });
    expect(serializeXml(parsed)).toBe(DECL + xml);
    // Only extensions: no value array at all; a shorter _given still lines up.
    expect(parseXml(patient(`<name><given>${ext('e')}</given></name>`))).toEqual({
      resourceType: 'Patient',
      name: [{ _given: [{ extension: [{ url: 'http://example.org/x', valueString: 'e' }] }] }],
    });
    roundTrip({ resourceType: 'Patient', name: [{ given: ['a', 'b', 'c'], _given: [null, { id: 'x' }, null] }] });
    // A shorter _given (not valid JSON FHIR, but harmless) comes back padded to the same length.
    const short = parseXml(serializeXml({ resourceType: 'Patient', name: [{ given: ['a', 'b', 'c'], _given: [null, { id: 'x' }] }] }));
    expect(short).toEqual({ resourceType: 'Patient', name: [{ given: ['a', 'b', 'c'], _given: [null, { id: 'x' }, null] }] });
  });

  it('keeps decimals exactly as written, both ways', () => {
    const xml = `<Observation ${FHIR}><status value="final"/><code><text value="t"/></code><valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity>` +
      `<referenceRange><low><value value="0.000100"/></low><high><value value="2"/></high></referenceRange></Observation>`;
    const parsed = parseXml(xml);
    expect(hasExact(parsed)).toBe(true);
    expect(stringifyJson(parsed)).toBe(
      '{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":1.50,"unit":"mg"},"referenceRange":[{"low":{"value":0.000100},"high":{"value":2}}]}',
    );
    expect(serializeXml(parsed)).toBe(DECL + xml);
    const fromJson = parseJson('{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":1.50},"component":[{"code":{"text":"c"},"valueQuantity":{"value":0.000100}}]}') as Json;
    const written = serializeXml(fromJson);
    expect(written).toContain('<value value="1.50"/>');
    expect(written).toContain('<value value="0.000100"/>');
    expect(stringifyJson(parseXml(written))).toBe(stringifyJson(fromJson));
    // A decimal inside a repeating primitive's extension, and integers and booleans typed.
    const rp = parseXml(patient(`<name><given><extension url="u"><valueDecimal value="3.10"/></extension></given><given value="b"/></name><multipleBirthInteger value="2"/>`));
    expect(stringifyJson(rp)).toBe('{"resourceType":"Patient","name":[{"given":[null,"b"],"_given":[{"extension":[{"url":"u","valueDecimal":3.10}]},null]}],"multipleBirthInteger":2}');
    expect(serializeXml(rp)).toContain('<valueDecimal value="3.10"/>');
  });

  it('wraps contained resources in contained', () => {
    const resource = {
      resourceType: 'Observation',
      id: 'o1',
      contained: [{ resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe' }] }, { resourceType: 'Practitioner', id: 'pr1' }],
      status: 'final',
      code: { text: 'x' },
      subject: { reference: '#p1' },
    };
    const xml = roundTrip(resource);
    expect(xml).toContain('<contained><Patient><id value="p1"/><name><family value="Doe"/></name></Patient></contained><contained><Practitioner><id value="pr1"/></Practitioner></contained>');
  });

  it('reads and writes a Bundle with entry resources (and an outcome resource)', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [
        { fullUrl: 'http://x/Patient/1', resource: { resourceType: 'Patient', id: '1', active: true }, response: { status: '201 Created' } },
        {
          response: {
            status: '400 Bad Request',
            outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'a < b & "c"' }] },
          },
        },
      ],
    };
    const xml = roundTrip(bundle);
    expect(xml).toContain('<resource><Patient><id value="1"/><active value="true"/></Patient></resource>');
    expect(xml).toContain('<outcome><OperationOutcome>');
    expect(xml).toContain('value="a &lt; b &amp; &quot;c&quot;"');
  });

  it('reads and writes Parameters with a resource and parts', () => {
    const params = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'count', valueInteger: 3 },
        { name: 'patient', resource: { resourceType: 'Patient', id: 'p', gender: 'female' } },
        { name: 'group', part: [{ name: 'flag', valueBoolean: false }, { name: 'amount', valueDecimal: 12.5 }] },
      ],
    };
    const xml = roundTrip(params);
    expect(xml).toContain('<parameter><name value="patient"/><resource><Patient><id value="p"/><gender value="female"/></Patient></resource></parameter>');
    expect(xml).toContain('<part><name value="flag"/><valueBoolean value="false"/></part>');
  });

  it('keeps the narrative div as XHTML text, nested markup and entities included', () => {
    const div = `<div ${XHTML}><p class="x">Fish &amp; chips &lt;cheap&gt; for 5&#x20AC; &#169;</p><div><ul><li><b>one</b></li><li>two<br/></li></ul></div><!-- note --></div>`;
    const xml = patient(`<text><status value="generated"/>${div}</text><active value="true"/>`);
    const parsed = parseXml(xml);
    expect((parsed.text as Json).div).toBe(div);
    expect(serializeXml(parsed)).toBe(DECL + xml);
    roundTrip(parsed);
    // A div written without its namespace gets it; an empty one stays empty.
    expect(serializeXml({ resourceType: 'Patient', text: { status: 'generated', div: '<div><p>x</p></div>' } })).toContain(`<div ${XHTML}><p>x</p></div>`);
    expect(parseXml(patient(`<text><status value="generated"/><div ${XHTML}/></text>`))).toEqual({ resourceType: 'Patient', text: { status: 'generated', div: `<div ${XHTML}/>` } });
  });

  it('decodes &lt; &#x20AC; &amp; in values and escapes what must be escaped', () => {
    const parsed = parseXml(patient('<name><text value="&lt;b&gt; &#x20AC;5 &amp; &#8364;6 &quot;q&quot; &apos;a&apos;"/></name>'));
    expect((parsed.name as Json[])[0]!.text).toBe('<b> €5 & €6 "q" \'a\'');
    const tricky = 'line1\nline2\r\n\ttabbed & <tag> "quoted" \'single\' €';
    const xml = roundTrip({ resourceType: 'Patient', name: [{ text: tricky }] });
    expect(xml).toContain('value="line1&#10;line2&#13;&#10;&#9;tabbed &amp; &lt;tag&gt; &quot;quoted&quot; \'single\' €"');
    // Literal whitespace in an attribute is normalised by the XML rules; references are not.
    expect((parseXml(patient('<name><text value="a\tb\nc&#10;d"/></name>')).name as Json[])[0]!.text).toBe('a b c\nd');
  });

  it('writes id and url as attributes, with extensions on complex types and modifierExtension', () => {
    const resource = {
      resourceType: 'Patient',
      extension: [{ url: 'http://example.org/a', extension: [{ url: 'inner', valueInteger: 1 }] }],
      modifierExtension: [{ id: 'm', url: 'http://example.org/m', valueBoolean: true }],
      name: [{ id: 'n1', extension: [{ url: 'http://example.org/n', valueString: 'v' }], family: 'F' }],
    };
    const xml = roundTrip(resource);
    expect(xml).toContain('<extension url="http://example.org/a"><extension url="inner"><valueInteger value="1"/></extension></extension>');
    expect(xml).toContain('<modifierExtension id="m" url="http://example.org/m"><valueBoolean value="true"/></modifierExtension>');
    expect(xml).toContain('<name id="n1"><extension url="http://example.org/n"><valueString value="v"/></extension><family value="F"/></name>');
  });

  it('refuses to write what does not fit the model', () => {
    const write = (r: Json) => () => serializeXml(r);
    expect(write({ resourceType: 'Patient', foo: 1 })).toThrow(/Unknown element 'foo'/);
    expect(write({ resourceType: 'Nope' })).toThrow(FhirError);
    expect(write({ resourceType: 'Patient', name: { family: 'x' } })).toThrow(/must be an array/);
    expect(write({ resourceType: 'Patient', text: { status: 'generated', div: `<div ${XHTML}>a</div><extension url="x"/>` } })).toThrow(/single element/);
    expect(write({ resourceType: 'Patient', text: { status: 'generated', div: `<div ${XHTML}>&nbsp;<b></div>` } })).toThrow(FhirError);
    expect(write({ resourceType: 'Patient', id: 'a\u0001' })).toThrow(/cannot be written in XML/);
    expect(write({ resourceType: 'Patient', text: { status: 'generated', div: `<div ${XHTML}>a\u0001</div>` } })).toThrow(/does not allow/);
    expect(write({ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2000' })).toThrow(/deceased\[x\]/);
  });
});
