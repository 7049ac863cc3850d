/** The interrupt matrix of `tls rotate --method ops-request`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('rotate-ops', 'interrupt-rotate-ops');
