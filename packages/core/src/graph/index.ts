export { orderSteps, type GraphNode, type StepGraph } from './order.js';
