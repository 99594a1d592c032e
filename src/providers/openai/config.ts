/** The `providers:` entry of `type: openai` (OpenAI, vLLM, Ollama, llama.cpp server and other /chat/completions servers). */
import { z } from 'zod';
import { httpConfigFields } from '../http-provider.ts';

export const openaiConfigSchema = z.object({ type: z.literal('openai'), ...httpConfigFields }).strict();
export type OpenAIProviderConfig = z.infer<typeof openaiConfigSchema>;
