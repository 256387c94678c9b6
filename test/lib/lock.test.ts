// lock.test.ts — two builds in one directory: the second is refused with a clear message.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Project, collect, waitFor, show } from '../helpers/project.js'

test('a second concurrent build in the same directory fails with the owner\'s pid', async () => {
  const p = new Project({
    'autonfile.ts': `import { target, sh } from 'auton'
target('held', { outputs: ['out/h'], run: sh\`touch started; sleep 20; touch out/h\` })
target('other', { outputs: ['out/o'], run: sh\`touch out/o\` })
`,
  })
  try {
    const first = p.spawn(['build', 'held'])
    const done = collect(first, ['build', 'held'])
    await waitFor(() => p.exists('started'), 10_000, 'the first build to start its recipe')
    const second = await p.run(['build', 'other'])
    assert.is(second.code, 1, show(second))
    assert.match(second.stderr, `auton: another auton (pid ${first.pid}) is building in ${p.dir}`)
    assert.match(second.stderr, 'wait for it to finish')
    assert.not.ok(p.exists('out/o'), 'the second build ran nothing')
    const clean = await p.run(['clean'])
    assert.is(clean.code, 1, 'clean is refused too')
    first.kill('SIGINT')
    assert.is((await done).code, 130)
    const after = await p.build('other')
    assert.is(after.code, 0, show(after))
  } finally {
    p.remove()
  }
})

test.run()
