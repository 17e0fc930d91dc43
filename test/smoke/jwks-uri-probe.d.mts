export function probeJwksUri(base: string, jwksUri: string): Promise<{ registration: number; token: Response | undefined }>;
