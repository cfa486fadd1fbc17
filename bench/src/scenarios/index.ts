/** Every scenario by name. */
import type { ScenarioName } from '../cli/options.ts';
import { directScenario } from './direct.ts';
import { groupScenario } from './group.ts';
import type { Scenario } from './scenario.ts';

export const scenarios: Partial<Record<ScenarioName, Scenario>> = {
  direct: directScenario,
  group: groupScenario,
};
