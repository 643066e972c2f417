import type { ListrTask } from 'listr2';
import type { BuildContext } from './context.js';

// Placeholder seam; filled in by its issue.
export function acceptanceTasks(): ListrTask<BuildContext>[] {
  return [];
}
