/**
 * Source: /etc/sysconfig/netconsole, the CentOS/RHEL netconsole service's settings (parsed by
 * src/config/sysconfig.ts, which analyze's --config shares). Pure, except collect through its
 * HostExec.
 */
import { parseSysconfigNetconsole } from '../../../config/sysconfig.js';
import type { FactText } from '../../host/fact-text.js';
import { readFact } from '../../host/read.js';
import type { SenderSource } from './types.js';

export const sysconfigSource: SenderSource<'sysconfig', FactText> = {
  key: 'sysconfig',
  collect: exec => readFact(exec, '/etc/sysconfig/netconsole'),
  read(f) {
    const r = parseSysconfigNetconsole(f.text, f.from);
    return { targets: r.targets.map(target => ({ target })), errors: r.errors, warnings: r.warnings };
  },
  nothingFound: f => `${f.from}: no SYSLOGADDR target`,
  macResolvedAtStart: 'SYSLOGMACADDR empty: the init script resolves it at start (arping)',
};
