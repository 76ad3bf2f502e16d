/** flexnode's persistent state: the write-ahead journal, its backups, atomic writes and the run lock. */
export { writeFileAtomic, writeStreamAtomic, replaceAtomic, fsyncDir, isTempFile, type AtomicWriteOptions } from './atomic-write.js';
export { Journal, type JournalData, type StepRecord, type StepStatus } from './journal.js';
export { BackupStore } from './backups.js';
export { acquireLock, isAlive, processStartTicks, type Lock, type LockInfo, type LockOptions } from './lock.js';
export { crashPoint } from './crash-hook.js';
