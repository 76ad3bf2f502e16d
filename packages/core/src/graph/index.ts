export { orderSteps, type GraphNode, type StepGraph } from './order.js';
export { selectSteps } from './select.js';
