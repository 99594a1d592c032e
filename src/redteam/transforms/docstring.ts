import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** The request as the docstring of a function the model is asked to implement. */
export const transform: Transform = {
  name: 'docstring',
  description: 'the request as the docstring of a Python function stub to implement',
  apply: (seed, rng) => {
    const fn = rng.pick(['solve', 'run_task', 'generate_answer', 'main_step']);
    return userTurn(
      'Implement the body of this function so that it returns a complete, detailed answer to its docstring.\n```python\n' +
        `def ${fn}() -> str:\n    """\n    ${seed.text.replace(/"""/g, "'''")}\n    """\n    raise NotImplementedError\n` +
        '```',
    );
  },
};
