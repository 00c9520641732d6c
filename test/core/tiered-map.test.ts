// The state's two-tier map (core/tiered-map.ts): a lookup finds a record whatever its tier; only
// the order of iteration tells them apart.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TieredMap } from '../../src/core/tiered-map.ts';

describe('a tiered map', () => {
  it('finds, counts and deletes a record whatever its tier', () => {
    const map = new TieredMap<string, number>();
    map.set('a', 1).set('b', 2).set('c', 3);
    map.retire('a');
    assert.equal(map.get('a'), 1);
    assert.equal(map.has('a'), true);
    assert.equal(map.get('z'), undefined);
    assert.equal(map.has('z'), false);
    assert.deepEqual([map.size, map.retiredSize], [3, 1]);
    assert.equal(map.delete('a'), true, 'a retired record');
    assert.equal(map.delete('b'), true, 'a live one');
    assert.equal(map.delete('b'), false, 'gone');
    assert.deepEqual([...map], [['c', 3]]);
    assert.deepEqual([map.size, map.retiredSize], [1, 0]);
  });

  it('iterates the live tier, then the retired, each in the order its records came', () => {
    const map = new TieredMap<string, number>();
    for (const [index, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, index);
    map.retire('c');
    map.retire('a');
    map.retire('a'); // retired already: nothing
    map.retire('z'); // absent: nothing
    assert.deepEqual([...map.keys()], ['b', 'd', 'c', 'a']);
    assert.deepEqual([...map.values()], [1, 3, 2, 0]);
    assert.deepEqual([...map.entries()].map(([key]) => key), ['b', 'd', 'c', 'a']);
    assert.equal(map.retiredSize, 2);
  });

  it('brings a retired record that changes back to the live tier, once', () => {
    const map = new TieredMap<string, number>();
    map.set('a', 1).set('b', 2);
    map.retire('a');
    map.set('a', 10);
    assert.deepEqual([...map], [['b', 2], ['a', 10]]);
    assert.deepEqual([map.size, map.retiredSize], [2, 0]);
  });
});
