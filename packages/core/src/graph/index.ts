export { orderSteps, GraphCycleError, type GraphNode, type StepGraph } from './order.js';
export { selectSteps } from './select.js';
