/** Redaction edge cases that mutation testing showed no other test pinned down. */
import { bodyExcerpt, bodySummary, redactJson, scrub } from '../src/redact';

describe('a "code" is masked unless it is a short error code', () => {
  it('in JSON: a long code value is masked, error codes like 601 or INVALID_GRANT are kept', () => {
    expect(redactJson({ code: 'code-ABC123456-long-and-random' })).toEqual({ code: '[redacted]' });
    expect(redactJson({ code: 601, other: { code: '602' }, named: { code: 'INVALID_GRANT' } })).toEqual({
      code: 601,
      other: { code: '602' },
      named: { code: 'INVALID_GRANT' },
    });
    expect(redactJson({ code: { nested: 1 } })).toEqual({ code: '[redacted]' });
  });

  it('in text: code=601 stays, a long code is masked, and other keys are masked however short', () => {
    expect(scrub('error code=601 here')).toBe('error code=601 here');
    expect(scrub('cb?code=abcdef123456789xyz&x=1')).toBe('cb?code=[redacted]&x=1');
    expect(scrub('token=601 state=ab')).toBe('token=[redacted] state=[redacted]');
  });
});

describe('redactJson depth', () => {
  it('masks whatever lies deeper than 8 levels, in objects and in arrays', () => {
    let deep: unknown = 'plain value';
    for (let i = 0; i < 12; i++) deep = { a: deep };
    expect(JSON.stringify(redactJson(deep))).toContain('"[redacted]"');
    expect(JSON.stringify(redactJson(deep))).not.toContain('plain value');
    let list: unknown = 'plain value';
    for (let i = 0; i < 12; i++) list = [list];
    expect(JSON.stringify(redactJson(list))).not.toContain('plain value');
    let shallow: unknown = 'plain value';
    for (let i = 0; i < 7; i++) shallow = { a: shallow };
    expect(JSON.stringify(redactJson(shallow))).toContain('plain value');
  });
});

describe('bodySummary', () => {
  it('names the media type without parameters or spaces, and the size in bytes', () => {
    expect(bodySummary('<p>é</p>', 'text/html ; charset=utf-8')).toBe('text/html, 9 bytes');
    expect(bodySummary('', null)).toBe('no content type, 0 bytes');
  });
});

describe('bodyExcerpt of a huge body', () => {
  it('stays short and masked', () => {
    const body = `${'x'.repeat(20_000)} access_token=abcdef123456`;
    expect(bodyExcerpt(body)).toBe(`${'x'.repeat(160)}…`);
    expect(bodyExcerpt(`access_token=abcdef123456 ${'x'.repeat(20_000)}`).startsWith('access_token=[redacted] ')).toBe(true);
  });
});
