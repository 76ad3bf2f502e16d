import { expect } from 'chai';
import { colorEnabled, liveTerminal, withoutColorFlag } from './color.js';

describe('colour and terminal conventions', () => {
  const tty = { isTTY: true };
  it('colours only a terminal, never with NO_COLOR (any non-empty value, no-color.org) or TERM=dumb', () => {
    expect(colorEnabled(tty, { TERM: 'xterm-256color' })).to.equal(true);
    expect(colorEnabled({ isTTY: false }, { TERM: 'xterm' })).to.equal(false);
    expect(colorEnabled(tty, { TERM: 'xterm', NO_COLOR: '1' })).to.equal(false);
    expect(colorEnabled(tty, { TERM: 'xterm', NO_COLOR: '' })).to.equal(true);
    expect(colorEnabled(tty, { TERM: 'dumb' })).to.equal(false);
  });

  it('redraws a line in place only on a terminal that is not dumb', () => {
    expect(liveTerminal(tty, { TERM: 'xterm' })).to.equal(true);
    expect(liveTerminal(tty, { TERM: 'dumb' })).to.equal(false);
    expect(liveTerminal({}, {})).to.equal(false);
  });

  it('takes --no-color out of the arguments (not after --) and sets NO_COLOR', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(withoutColorFlag(['steps', '--no-color', '--json'], env)).to.deep.equal(['steps', '--json']);
    expect(env['NO_COLOR']).to.equal('1');
    const untouched: NodeJS.ProcessEnv = {};
    expect(withoutColorFlag(['agent', '--', '--no-color'], untouched)).to.deep.equal(['agent', '--', '--no-color']);
    expect(untouched).to.deep.equal({});
  });
});
