/** The interrupt matrix of `tls disable --method patch`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('disable-patch', 'interrupt-disable-patch');
