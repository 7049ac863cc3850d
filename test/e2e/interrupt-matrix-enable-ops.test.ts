/** The interrupt matrix of `tls enable --method ops-request`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('enable-ops', 'interrupt-enable-ops');
