import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cutLikeKernel } from '../../rules/qemu-report.js'

test('the host answer is cut where the kernel shell stops', () => {
  assert.is(cutLikeKernel(' Intel Corporation 82574L.'), ' Intel Corporation 82574L.')
  assert.is(cutLikeKernel(' Intel Corporation 82574L. PCI device'), ' Intel Corporation 82574L.')
  assert.is(cutLikeKernel(' Foo Co., Ltd. Bar. Baz'), ' Foo Co., Ltd.')
  assert.is(cutLikeKernel(' Foo Co.,Ltd X\nnext line'), ' Foo Co.,Ltd X')
  assert.is(cutLikeKernel(''), '')
})

test.run()
