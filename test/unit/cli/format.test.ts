import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileFormat } from '../../../src/cli/format.ts'

const record = {
  topic: 't',
  partition: 2,
  offset: 41n,
  timestamp: 1700000000000n,
  key: Buffer.from('k1'),
  value: Buffer.from('hello'),
  headers: [{ key: 'h', value: Buffer.from('v') }],
}

test('kcat tokens and escapes', () => {
  assert.equal(compileFormat('%t %p %o %k %v %T %h %K %S%%\\t|\\n')(record), 't 2 41 k1 hello 1700000000000 h=v 2 5%\t|\n')
})

test('null key and value print empty with length -1', () => {
  assert.equal(compileFormat('[%k][%v] %K %S')({ ...record, key: null, value: null }), '[][] -1 -1')
})

test('an unknown token is refused up front', () => {
  assert.throws(() => compileFormat('%x'), /unknown format token %x/)
})
