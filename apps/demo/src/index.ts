export { type DemoOptions, runDemo } from './demo';
export { type DemoReport, formatSummary, type StepRecord } from './report';
