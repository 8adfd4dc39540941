// Developer tool: boot the conformance guest and run shell commands in it.
//   npx tsx scripts/qemu/explore.ts [--no-iommu] 'cmd1' 'cmd2' ...
import { bootGuest } from "../../src/host/qemu/session.ts";

const args = process.argv.slice(2);
const iommu = !args.includes("--no-iommu");
const s = await bootGuest(process.cwd(), { iommu });
console.log(`# booted in ${s.bootMs} ms, settled in ${s.settleMs} ms (initramfs ${s.image.cached ? "cached" : "built"})`);
for (const cmd of args.filter((a) => a !== "--no-iommu")) {
  const r = await s.control.sh(cmd);
  console.log(`$ ${cmd}  [exit ${r.code}]\n${r.stdout}`);
}
s.guest.kill();
