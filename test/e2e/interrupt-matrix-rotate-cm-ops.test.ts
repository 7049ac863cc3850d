/** The interrupt matrix of `tls rotate --method cert-manager --restart-with ops-request`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('rotate-cm-ops', 'interrupt-rotate-cm-ops');
