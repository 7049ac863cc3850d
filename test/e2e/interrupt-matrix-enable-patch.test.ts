/** The interrupt matrix of `tls enable --method patch`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('enable-patch', 'interrupt-enable-patch');
