/** Builds the web console into outDir (default console-ui/dist); resolves to the folder written. */
export function buildConsole(outDir?: string): Promise<string>;
