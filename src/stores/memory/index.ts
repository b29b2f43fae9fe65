export { MemoryStore, memoryStore } from './memory-store.js';
export { BinaryHeap } from '../../heap.js';
