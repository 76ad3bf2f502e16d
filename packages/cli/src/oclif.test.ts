import { expect } from 'chai';
import { Errors } from '@oclif/core';
import { asOwnExit } from './oclif.js';

describe("oclif runtime: a plugin's exit", () => {
  it("makes another @oclif/core copy's ExitError this copy's, keeping its code; anything else is left as it is", () => {
    // What a plugin bundle's own ExitError looks like from here: another class, the same shape.
    class ForeignExit extends Error {
      code = 'EEXIT';
      oclif = { exit: 3 };
    }
    const mine = asOwnExit(new ForeignExit('EEXIT: 3'));
    expect(mine).to.be.instanceOf(Errors.ExitError);
    expect((mine as Errors.ExitError).oclif.exit).to.equal(3);
    const own = new Errors.ExitError(1);
    expect(asOwnExit(own)).to.equal(own);
    for (const other of [new Error('boom'), Object.assign(new Error('x'), { code: 'EEXIT' }), undefined, null]) expect(asOwnExit(other)).to.equal(other);
  });
});
