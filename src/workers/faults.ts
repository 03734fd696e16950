/**
 * Fault injection for the recovery tests, off unless set: GLANCE_FAULT_THROW and
 * GLANCE_FAULT_CRASH hold comma-separated job ids (or "*" for all) that throw an
 * exception, or end their worker thread abruptly, when they start.
 */
const has = (list: string | undefined, id: string) => !!list && list.split(',').some((x) => x === '*' || x === id);

export function testFault(jobId: string): void {
  if (has(process.env.GLANCE_FAULT_THROW, jobId)) throw new Error(`injected fault in ${jobId} (GLANCE_FAULT_THROW)`);
  if (has(process.env.GLANCE_FAULT_CRASH, jobId)) process.exit(70);
}
