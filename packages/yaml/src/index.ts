/** @nori/yaml: importing it registers 'yaml' (application/x-yaml, safe schema). */
import { registerSerializer } from '@nori/core';
import { yamlSerializer } from './yaml.js';

export function registerYaml(): void {
  registerSerializer(yamlSerializer);
}

registerYaml();

export { yamlSerializer };
