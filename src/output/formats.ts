/** Machine-readable output shared by every command: JSON is indented like kubectl's, YAML via js-yaml. */
import yaml from 'js-yaml';

export type DataFormat = 'json' | 'yaml';

export function renderData(value: unknown, format: DataFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return yaml.dump(value, { noRefs: true, lineWidth: -1, sortKeys: false });
}
