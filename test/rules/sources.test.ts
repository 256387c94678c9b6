// rules/sources.ts: how the rules name the package's own sources from a project.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { basename, dirname, join } from 'node:path'
import { PACKAGE_ROOT, packageFile, packageFiles, packagePrefix } from '../../rules/sources.js'

const REPO = join(import.meta.dirname, '../..')

test('in auton\'s own checkout the sources are plain project paths, globs left to the graph', () => {
  assert.is(PACKAGE_ROOT, REPO)
  assert.is(packagePrefix(REPO), '')
  assert.is(packageFile('SLM/configs/micro.yaml', REPO), 'SLM/configs/micro.yaml')
  assert.equal(packageFiles('SLM/train/*.c', REPO), ['SLM/train/*.c'])
})

test('a package inside the project: paths relative to the project, globs listed', () => {
  const project = dirname(REPO) // as if the checkout were <project>/node_modules/auton
  const at = `${basename(REPO)}/`
  assert.is(packagePrefix(project), at)
  assert.is(packageFile('kernels/x86_64/linker.ld', project), `${at}kernels/x86_64/linker.ld`)
  const c = packageFiles('SLM/train/*.c', project)
  assert.ok(c.includes(`${at}SLM/train/main.c`) && c.every((f) => f.startsWith(`${at}SLM/train/`) && f.endsWith('.c')), c.join(' '))
  assert.equal([...c].sort(), c)
})

test('a package outside the project (linked, hoisted): absolute paths', () => {
  assert.is(packagePrefix('/nonexistent/project'), `${REPO}/`)
  assert.is(packageFile('SLM/configs/smoke.yaml', '/nonexistent/project'), `${REPO}/SLM/configs/smoke.yaml`)
  assert.throws(() => packageFiles('SLM/**/*.c', '/nonexistent/project'), /not of the form dir\/\*\.ext/)
})

test.run()
