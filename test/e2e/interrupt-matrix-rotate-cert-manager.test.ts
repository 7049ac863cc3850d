/**
 * The interrupt matrix of `tls rotate --method cert-manager`, restarting with an ops request and with
 * the annotation: see interrupt-matrix.ts.
 */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix(['rotate-cm-ops', 'rotate-cm-ann'], 'interrupt-rotate-cert-manager');
