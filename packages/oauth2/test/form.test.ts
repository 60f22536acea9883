import { formComponent, formEncode } from '../src/form';

/** The form encoder must write exactly what URLSearchParams writes (it replaces it on every token request). */
describe('formEncode', () => {
  const values = [
    '',
    'plain-Value_1.2*',
    'http://127.0.0.1:3000/auth/cb?x=1&y=2#frag',
    'a b+c%20d',
    "!'()~*",
    'é ü 日本 😀',
    '\ud800 lone surrogate',
    '\u0000\u001f\u007f',
    '=&;,/?:@$[]{}|\\^`"<>',
  ];

  it.each(values)('encodes %j as URLSearchParams does', (value) => {
    expect(formComponent(value)).toBe(new URLSearchParams({ v: value }).toString().slice(2));
    expect(formEncode({ [value || 'empty']: value, next: 'x' })).toBe(new URLSearchParams({ [value || 'empty']: value, next: 'x' }).toString());
  });

  it('keeps the order of the fields and writes nothing for no fields', () => {
    expect(formEncode({ b: '2', a: '1', c: 'x y' })).toBe('b=2&a=1&c=x+y');
    expect(formEncode({})).toBe('');
  });
});
