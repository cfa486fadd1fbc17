/** Every scenario by name. */
import type { ScenarioName } from '../cli/options.ts';
import { directScenario } from './direct.ts';
import { floodScenario } from './flood.ts';
import { groupScenario } from './group.ts';
import { historyScenario } from './history.ts';
import { idleScenario } from './idle.ts';
import { reconnectScenario } from './reconnect.ts';
import type { Scenario } from './scenario.ts';

export const scenarios: Record<ScenarioName, Scenario> = {
  direct: directScenario,
  group: groupScenario,
  idle: idleScenario,
  reconnect: reconnectScenario,
  history: historyScenario,
  flood: floodScenario,
};
