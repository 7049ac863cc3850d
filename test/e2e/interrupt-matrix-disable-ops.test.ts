/** The interrupt matrix of `tls disable --method ops-request`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('disable-ops', 'interrupt-disable-ops');
