import { runConformance } from '@nori/testing';

runConformance({ name: 'memory', url: 'memory://' });
