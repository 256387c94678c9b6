// execute.test.ts — the mutation guard and retries, on real recipes.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync } from 'node:fs'
import { Project, show } from '../helpers/project.js'

const test = suite('execute')

test('an input edited while its recipe runs: warned, not recorded, not cached; after a revert the output is right', async () => {
  const p = new Project({
    // the recipe reads its input, then "an editor" saves a new version before it ends
    'edit.sh': 'cat src/in.txt > out/o.txt\nsleep 0.1\necho edited > src/in.txt\n',
    'autonfile.ts': `import { target, sh } from 'auton'
target('o', { inputs: ['src/in.txt', 'edit.sh'], outputs: ['out/o.txt'], run: sh\`bash edit.sh\` })
`,
    'src/in.txt': 'original\n',
  })
  try {
    const r = await p.build('o')
    assert.is(r.code, 0, show(r))
    const warning = r.events.find((e) => e.type === 'warning')
    assert.match(String(warning?.message), "'src/in.txt' changed while its recipe ran", show(r))
    assert.is(r.summary?.unrecorded, 1)
    assert.not.ok(existsSync(p.path('cache/ac.log')), 'nothing cached')
    p.write('src/in.txt', 'original\n') // revert
    p.write('edit.sh', 'cat src/in.txt > out/o.txt\n')
    const again = await p.build('o')
    assert.is(again.status.get('o'), 'ran', show(again))
    assert.is(p.read('out/o.txt'), 'original\n')
    assert.is((await p.build('o')).status.get('o'), 'up-to-date')
  } finally {
    p.remove()
  }
})

test('retries: a failing recipe runs again only when the target asks, with the reason in its log', async () => {
  const p = new Project({
    'flaky.sh': 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -lt 3 ]; then echo "flake $n" >&2; exit 1; fi; echo ok > out/f.txt\n',
    'autonfile.ts': `import { target, sh } from 'auton'
target('f', { inputs: ['flaky.sh'], outputs: ['out/f.txt'], retries: 2, run: sh\`bash flaky.sh\` })
target('g', { inputs: ['flaky.sh'], outputs: ['out/g.txt'], run: sh\`bash flaky.sh; cp out/f.txt out/g.txt\` })
`,
  })
  try {
    const r = await p.build('f')
    assert.is(r.status.get('f'), 'ran', show(r))
    assert.is(p.read('count').trim(), '3')
    const log = p.read('.auton/logs/f.log')
    assert.match(log, 'attempt 1 of 3 failed: command exited with code 1')
    assert.match(log, 'attempt 2 of 3 failed')
    p.write('count', '0')
    const g = await p.build('g')
    assert.is(g.status.get('g'), 'failed', show(g))
    assert.is(p.read('count').trim(), '1')
  } finally {
    p.remove()
  }
})

test.run()
