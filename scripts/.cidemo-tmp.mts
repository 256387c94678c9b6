// CI demo: the default pipeline built cold in checkout A (pushing to a remote cache), then in a
// fresh checkout B against the warm remote: every target restored, none run.
import { Nginx } from '/work/main/test/helpers/nginx.ts'
import { execSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
const server = await Nginx.start()
console.log('remote', server.url)
const files = execSync('git ls-files -co --exclude-standard', { cwd: '/work/main' }).toString()
writeFileSync('/tmp/cidemo/files.txt', files)
function checkout(dir: string) {
  rmSync(dir, { recursive: true, force: true }); mkdirSync(dir)
  execSync(`tar -C /work/main --ignore-failed-read -cf - -T /tmp/cidemo/files.txt 2>/dev/null | tar -C ${dir} -xf -`)
  symlinkSync('/work/main/node_modules', `${dir}/node_modules`)
  execSync(`cp -r /work/main/dist ${dir}/dist`)
}
function build(dir: string, tag: string) {
  const t0 = Date.now()
  const r = spawnSync('node', ['bin/auton.js', 'build', '--json', '-k', '--remote-cache', server.url], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 1 << 28 })
  const ms = Date.now() - t0
  writeFileSync(`/tmp/cidemo/${tag}.jsonl`, r.stdout); writeFileSync(`/tmp/cidemo/${tag}.err`, r.stderr)
  const summary = r.stdout.split('\n').filter((l) => l.includes('"summary"')).pop()
  console.log(tag, 'exit', r.status, 'wall', ms, 'ms', summary)
  for (const l of r.stdout.split('\n')) if (l.includes('"failed"') && l.includes('"target"')) console.log('  FAILED', l.slice(0, 300))
  for (const l of r.stdout.split('\n')) if (l.includes('"warning"')) console.log('  WARN', l.slice(0, 300))
}
try {
  checkout('/tmp/cidemo/a'); build('/tmp/cidemo/a', 'cold')
  checkout('/tmp/cidemo/b'); build('/tmp/cidemo/b', 'warm')
  console.log(execSync(`du -sh ${server.data}`).toString())
} finally { await server.remove() }
