/** The interrupt matrix of `tls rotate --method cert-manager --restart-with annotation`: see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix('rotate-cm-ann', 'interrupt-rotate-cm-annotation');
